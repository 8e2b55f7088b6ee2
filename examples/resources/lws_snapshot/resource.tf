resource "lws_container" "db" {
  az       = "az1"
  hostname = "db"
  template = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  size     = "medium"
}

resource "lws_snapshot" "before_upgrade" {
  container_id = lws_container.db.id
  name         = "before-upgrade"
  description  = "PostgreSQL 15, before moving to 16"
}
