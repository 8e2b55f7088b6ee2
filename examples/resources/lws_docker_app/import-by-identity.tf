import {
  to = lws_docker_app.blog
  identity = {
    region = "eu-south-1"
    az     = "az1"
    vmid   = 105
    name   = "blog"
  }
}
