# Quick start: three containers in two availability zones of one region.
# `make demo` runs this against simulated Proxmox hosts; point `lws_config_file` at your own
# LWS config.yaml to run it against real ones.

terraform {
  required_providers {
    lws = {
      source = "lws/lws"
    }
  }
}

variable "lws_config_file" {
  type        = string
  description = "Path of the LWS config.yaml describing regions, availability zones and instance sizes."
}

provider "lws" {
  config_file = var.lws_config_file
  region      = "eu-south-1"
}

resource "lws_container" "web" {
  count    = 2
  az       = count.index == 0 ? "az1" : "az2"
  hostname = "web-${count.index + 1}"
  template = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  size     = "small"
  tags     = ["quickstart", "web"]
}

resource "lws_container" "db" {
  az          = "az1"
  hostname    = "db"
  template    = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  size        = "medium"
  description = "PostgreSQL for the quick start"
  tags        = ["db", "quickstart"]
}

output "containers" {
  description = "Every container created, by hostname."
  value = {
    for c in concat(lws_container.web, [lws_container.db]) :
    c.hostname => "${c.id} on node ${c.node}: ${c.status}, ${c.memory} MiB, ${c.ipv4_address}"
  }
}
