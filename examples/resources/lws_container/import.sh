# <region>/<az>/<vmid>
terraform import lws_container.web eu-south-1/az1/105

# or a bare VMID, when it is unique across the configured hosts
terraform import lws_container.web 105
