import {
  to = lws_snapshot.before_upgrade
  identity = {
    region = "eu-south-1"
    az     = "az1"
    vmid   = 105
    name   = "before-upgrade"
  }
}
