# <region>/<az>/<storage>/<archive file>
terraform import lws_backup.db_before_upgrade eu-south-1/az1/local/vzdump-lxc-105-2026_11_29-10_15_00.tar.zst
