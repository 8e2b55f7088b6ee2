# The apps of one container that the LWS tool (or anyone) deployed (terraform query, Terraform
# 1.14 and later). Each container asked costs one command inside it.
list "lws_docker_app" "blog" {
  provider = lws

  config {
    container_id = "eu-south-1/az1/105"
  }
}
