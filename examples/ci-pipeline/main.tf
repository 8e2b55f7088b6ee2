# A configuration run from CI (see docs/guides/ci-pipelines.md): the state lives in GitLab's
# Terraform state (an http backend with locking), credentials come from masked CI variables
# (LWS_SSH_PRIVATE_KEY, LWS_SSH_KNOWN_HOSTS), and the hosts are reached through a bastion.
terraform {
  required_providers {
    lws = { source = "lws/lws" }
  }
  backend "http" {
    # address, lock_address and unlock_address come from `terraform init -backend-config=…`
    # in the pipeline (GitLab's TF_HTTP_* variables set them too).
    lock_method   = "POST"
    unlock_method = "DELETE"
  }
}

provider "lws" {
  region = "eu-south-1"
  regions = {
    "eu-south-1" = {
      availability_zones = {
        az1 = { host = "10.10.0.11" }
        az2 = { host = "10.10.0.12" }
      }
    }
  }
  ssh = {
    jump        = "ci@bastion.example.net"
    config_file = ""
  }
}

resource "lws_container" "web" {
  hostname = "web"
  az       = "az1"
  template = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
}
