data "lws_templates" "debian" {
  az         = "az1"
  name_regex = "^debian-12-"
}

resource "lws_container" "app" {
  az       = "az1"
  template = data.lws_templates.debian.templates[0].volid
  size     = "small"
}
