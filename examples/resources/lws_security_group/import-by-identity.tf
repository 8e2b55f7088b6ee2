import {
  to = lws_security_group.web
  identity = {
    region = "eu-south-1"
    name   = "web"
  }
}
