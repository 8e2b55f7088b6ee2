# Proxmox backs these containers up every weekday night, whether Terraform runs or not.
resource "lws_backup_schedule" "nightly" {
  name           = "nightly"
  schedule       = "mon..fri 02:30"
  vmids          = [105, 106] # or [lws_container.db.vmid, ...]
  storage        = "local"
  notes_template = "{{guestname}} nightly"
  keep_daily     = 7
  keep_weekly    = 4
  comment        = "Databases, nightly"
}

# Every guest of the cluster but two scratch containers, each Sunday; no archive is ever pruned.
resource "lws_backup_schedule" "weekly" {
  name     = "weekly-all"
  schedule = "sun 03:00"
  all      = true
  exclude  = [190, 191]
  keep_all = true
}
