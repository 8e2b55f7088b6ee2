# <region>/<name>
terraform import lws_firewall_alias.office eu-south-1/office
