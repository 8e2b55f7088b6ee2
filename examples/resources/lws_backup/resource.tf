resource "lws_container" "db" {
  hostname = "db"
  template = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
}

# A backup before an upgrade; the archive stays until this resource is destroyed.
resource "lws_backup" "db_before_upgrade" {
  container_id   = lws_container.db.id
  notes_template = "{{guestname}} before the 17.2 upgrade"
}

# A copy of the database as it was, as a new container: the archive's files and settings,
# with what is given here on top.
resource "lws_container" "db_copy" {
  hostname     = "db-copy"
  restore_from = lws_backup.db_before_upgrade.volid
  memory       = 1024
}
