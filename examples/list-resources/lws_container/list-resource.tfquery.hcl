# Every production web server in eu-south-1 (terraform query, Terraform 1.14 and later).
# `terraform query -generate-config-out=adopt.tf` writes a resource and an import block for each.
list "lws_container" "web" {
  provider = lws

  config {
    region   = "eu-south-1"
    tags     = ["prod"]
    hostname = "web-*"
    status   = "running"
  }
}
