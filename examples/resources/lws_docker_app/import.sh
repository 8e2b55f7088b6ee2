# <region>/<az>/<vmid>/<app name>: apps deployed by the LWS tool import the same way
terraform import lws_docker_app.blog eu-south-1/az1/105/blog
