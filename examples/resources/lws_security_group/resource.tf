resource "lws_security_group" "web" {
  name        = "web"
  description = "Public web servers"

  rule {
    direction = "in"
    action    = "ACCEPT"
    protocol  = "tcp"
    dport     = "80,443"
    comment   = "http and https"
  }

  rule {
    direction = "in"
    action    = "ACCEPT"
    macro     = "SSH"
    source    = "10.0.0.0/8"
    comment   = "ssh from the office network"
  }

  rule {
    direction = "in"
    action    = "DROP"
    protocol  = "tcp"
    dport     = "8000:8999"
    enabled   = false
  }
}

resource "lws_container" "web" {
  az              = "az1"
  template        = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  security_groups = [lws_security_group.web.name]
}
