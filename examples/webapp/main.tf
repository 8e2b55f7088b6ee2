# A small web application: a security group allowing HTTP and HTTPS, a container in each of two
# availability zones using it, the same compose app on each, and a snapshot of each after the
# first deployment.

terraform {
  required_providers {
    lws = {
      source = "lws/lws"
    }
  }
}

variable "lws_config_file" {
  type        = string
  description = "Path of the LWS config.yaml."
}

provider "lws" {
  config_file = var.lws_config_file
  region      = "eu-south-1"
}

resource "lws_security_group" "web" {
  name        = "webapp"
  description = "HTTP and HTTPS from anywhere"

  rule {
    direction = "in"
    action    = "ACCEPT"
    protocol  = "tcp"
    dport     = "80"
    comment   = "http"
  }

  rule {
    direction = "in"
    action    = "ACCEPT"
    protocol  = "tcp"
    dport     = "443"
    comment   = "https"
  }
}

resource "lws_container" "web" {
  for_each = toset(["az1", "az2"])

  az              = each.key
  hostname        = "webapp-${each.key}"
  template        = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  size            = "small"
  features        = { nesting = true, keyctl = true }
  security_groups = [lws_security_group.web.name]
  tags            = ["webapp"]
}

resource "lws_docker_app" "site" {
  for_each = lws_container.web

  container_id = each.value.id
  name         = "site"
  compose      = file("${path.module}/docker-compose.yml")
}

resource "lws_snapshot" "deployed" {
  for_each = lws_container.web

  container_id = each.value.id
  name         = "first-deploy"
  description  = "After the first deployment of the site"
  depends_on   = [lws_docker_app.site]
}

output "sites" {
  description = "Where each copy of the site answers."
  value       = { for az, c in lws_container.web : az => "http://${c.ipv4_address}/" }
}
