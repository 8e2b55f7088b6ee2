# <region>/<group name>
terraform import lws_security_group.web eu-south-1/web
