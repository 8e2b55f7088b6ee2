import {
  to = lws_firewall_ipset.monitoring
  identity = {
    region = "eu-south-1"
    name   = "monitoring"
  }
}
