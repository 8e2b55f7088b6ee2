import {
  to = lws_backup_schedule.nightly
  identity = {
    region = "eu-south-1"
    name   = "nightly"
  }
}
