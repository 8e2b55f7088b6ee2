# <region>/<az, or * for every zone>/<storage>/<file>
terraform import lws_template.debian 'eu-south-1/*/local/debian-12-standard_12.7-1_amd64.tar.zst'
