# <region>/<az>/<vmid>/<snapshot name>
terraform import lws_snapshot.before_upgrade eu-south-1/az1/105/before-upgrade
