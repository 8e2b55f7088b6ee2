import {
  to = lws_backup.db_before_upgrade
  identity = {
    region  = "eu-south-1"
    az      = "az1"
    storage = "local"
    file    = "vzdump-lxc-105-2026_11_29-10_15_00.tar.zst"
  }
}
