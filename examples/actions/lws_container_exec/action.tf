# terraform apply -invoke=action.lws_container_exec.migrate (Terraform 1.14 and later)
action "lws_container_exec" "migrate" {
  config {
    container_id = "eu-south-1/az1/105" # or lws_container.web.id
    command      = ["sh", "-c", "cd /srv/app && ./manage.py migrate --noinput"]
    timeout      = "15m"
  }
}

# Input on stdin (hidden in plans, never on a command line); exit status 1 also counts as done.
action "lws_container_exec" "load_fixtures" {
  config {
    container_id        = "eu-south-1/az1/105"
    command             = ["psql", "-U", "app", "app"]
    stdin               = <<-SQL
      INSERT INTO plans (name) VALUES ('basic') ON CONFLICT DO NOTHING;
    SQL
    expected_exit_codes = [0, 1]
  }
}
