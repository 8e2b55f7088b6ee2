# Debian 12 from Proxmox's catalogue on every host of the region, then a container from it:
# Terraform downloads before it creates.
resource "lws_template" "debian" {
  name = "debian-12-standard_12.7-1_amd64.tar.zst"
}

resource "lws_container" "web" {
  hostname = "web"
  template = lws_template.debian.volid
}

# A template built in CI, uploaded to the hosts of one zone; a new build uploads it again
# (source_hash = filesha256("build/app-base_2.3_amd64.tar.zst") does the same from the file).
variable "app_base_sha256" {
  type = string
}

resource "lws_template" "app_base" {
  az          = "az1"
  source_file = "build/app-base_2.3_amd64.tar.zst"
  source_hash = var.app_base_sha256
}

# Downloaded by each host itself, checked against its published checksum.
resource "lws_template" "alpine_edge" {
  url      = "https://images.example.org/lxc/alpine-edge_20261101_amd64.tar.xz"
  checksum = "sha256:5f2b0c5e8d7a9b1c3d4e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4"
}
