import {
  to = lws_container.web
  id = "eu-south-1/az1/105"
}
