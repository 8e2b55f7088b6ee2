import {
  to = lws_template.debian
  identity = {
    region  = "eu-south-1"
    zone    = "*"
    storage = "local"
    file    = "debian-12-standard_12.7-1_amd64.tar.zst"
  }
}
