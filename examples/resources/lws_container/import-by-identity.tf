import {
  to = lws_container.web
  identity = {
    region = "eu-south-1"
    az     = "az1"
    vmid   = 105
  }
}
