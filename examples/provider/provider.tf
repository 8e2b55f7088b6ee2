terraform {
  required_providers {
    lws = {
      source = "lws/lws"
    }
  }
}

# Hosts, availability zones and instance sizes come from an LWS config.yaml (unchanged from
# the LWS tool), with inline additions merged over it.
provider "lws" {
  config_file = "~/lws/config.yaml"
  region      = "eu-south-1"

  regions = {
    "eu-south-1" = {
      availability_zones = {
        az3 = {
          host         = "10.0.0.13"
          user         = "deploy"
          sudo         = true
          ssh_key_file = "~/.ssh/id_ed25519"
          host_key     = "SHA256:Spv9CyHN5fhGmMk9nvO0R1hpxo++G/eHHHB81om/OCY"
        }
      }
    }
  }

  instance_sizes = {
    xlarge = { memory = 8192, cores = 4, storage = "local-lvm:100" }
  }

  ssh = {
    connect_timeout          = "15s"
    command_timeout          = "60s"
    retries                  = 2
    known_hosts_file         = "~/.ssh/known_hosts"
    strict_host_key_checking = true
    max_sessions_per_host    = 8
    agent                    = true
  }
}
