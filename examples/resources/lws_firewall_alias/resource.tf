resource "lws_firewall_alias" "office" {
  name    = "office"
  cidr    = "10.20.0.0/16"
  comment = "Head office network"
}

resource "lws_security_group" "admin" {
  name = "admin"

  rule {
    direction = "in"
    action    = "ACCEPT"
    macro     = "SSH"
    source    = lws_firewall_alias.office.name
    comment   = "ssh from the office only"
  }
}
