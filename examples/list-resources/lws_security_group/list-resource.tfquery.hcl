# Every security group whose name starts with "web" (terraform query, Terraform 1.14 and later).
list "lws_security_group" "web" {
  provider = lws

  config {
    region = "eu-south-1"
    name   = "web*"
  }
}
