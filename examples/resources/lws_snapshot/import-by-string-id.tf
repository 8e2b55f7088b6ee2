import {
  to = lws_snapshot.before_upgrade
  id = "eu-south-1/az1/105/before-upgrade"
}
