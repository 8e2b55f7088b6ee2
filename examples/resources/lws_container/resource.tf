# A web server from an instance size.
resource "lws_container" "web" {
  az       = "az1"
  hostname = "web-1"
  template = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  size     = "small"
  tags     = ["web"]
}

# Explicit resources, a static address on a VLAN, Docker-ready features, a root password
# (kept out of command lines and logs) and SSH keys.
resource "lws_container" "db" {
  az            = "az2"
  hostname      = "db-1"
  template      = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  memory        = 4096
  cores         = 2
  disk_size     = 32
  storage       = "local-lvm"
  start_on_boot = true
  password      = var.root_password
  ssh_public_keys = var.admin_ssh_key
  description   = "PostgreSQL primary"

  network = [{
    name    = "eth0"
    bridge  = "vmbr0"
    ip      = "10.0.20.10/24"
    gateway = "10.0.20.1"
    vlan    = 20
  }]

  features = {
    nesting = true
    keyctl  = true
  }

  timeouts {
    create = "30m"
  }
}

variable "root_password" {
  type      = string
  sensitive = true
}

variable "admin_ssh_key" {
  type        = string
  description = "An OpenSSH public key, e.g. file(\"~/.ssh/id_ed25519.pub\")."
}
