import {
  to = lws_template.debian
  id = "eu-south-1/*/local/debian-12-standard_12.7-1_amd64.tar.zst"
}
