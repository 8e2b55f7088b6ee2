import {
  to = lws_firewall_alias.office
  identity = {
    region = "eu-south-1"
    name   = "office"
  }
}
