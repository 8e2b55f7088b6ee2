# terraform apply -invoke=action.lws_snapshot_rollback.undo_upgrade (Terraform 1.14 and later)
action "lws_snapshot_rollback" "undo_upgrade" {
  config {
    snapshot_id = "eu-south-1/az1/105/before-upgrade" # or lws_snapshot.before_upgrade.id
    start       = true
  }
}
