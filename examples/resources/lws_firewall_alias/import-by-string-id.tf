import {
  to = lws_firewall_alias.office
  id = "eu-south-1/office"
}
