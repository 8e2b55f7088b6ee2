# Every snapshot named before-* of one container (terraform query, Terraform 1.14 and later).
list "lws_snapshot" "before_upgrades" {
  provider = lws

  config {
    container_id = "eu-south-1/az1/105"
    name         = "before-*"
  }
}
