import {
  to = lws_firewall_ipset.monitoring
  id = "eu-south-1/monitoring"
}
