import {
  to = lws_security_group.web
  id = "eu-south-1/web"
}
