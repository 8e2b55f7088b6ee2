# <region>/<job id>
terraform import lws_backup_schedule.nightly eu-south-1/nightly
