import {
  to = lws_backup_schedule.nightly
  id = "eu-south-1/nightly"
}
