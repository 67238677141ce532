# api2lake on Google Cloud: storage, warehouse, serving store, the invoices stream, service
# accounts with narrow roles, the hourly Flex Template launch and the scheduled publisher job.
# Names passed to api2lake (template parameters, publisher flags) are the option names declared
# in pipeline/options.ts; test/deploy/terraform.test.ts keeps them in step with deploy/metadata.json.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}

data "google_project" "this" {}

locals {
  bucket             = coalesce(var.bucket, "${var.project}-api2lake")
  template_spec_path = coalesce(var.template_spec_path, "gs://${local.bucket}/templates/api2lake.json")
  layers             = ["lake", "hub", "dataproducts"]
  pubsub_agent       = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  services = [
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "bigtableadmin.googleapis.com",
    "cloudscheduler.googleapis.com",
    "dataflow.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.services)
  service            = each.value
  disable_on_destroy = false
}

# ---------------------------------------------------------------- image registry

resource "google_artifact_registry_repository" "images" {
  location      = var.region
  repository_id = "api2lake"
  format        = "DOCKER"
  description   = "api2lake Flex Template / publisher image"
  depends_on    = [google_project_service.apis]
}

# ---------------------------------------------------------------- lake bucket
# lake/raw, lake/processed, lake/deadletter, state/, runs/ (manifests), templates/; tmp/ and
# staging/ are Dataflow's and expire.

resource "google_storage_bucket" "lake" {
  name                        = local.bucket
  location                    = var.location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["tmp/", "staging/"]
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

# ---------------------------------------------------------------- warehouse

resource "google_bigquery_dataset" "layer" {
  for_each                   = toset(local.layers)
  dataset_id                 = "${var.dataset_prefix}${each.value}"
  location                   = var.location
  description                = "api2lake ${each.value} layer"
  delete_contents_on_destroy = !var.deletion_protection
  labels                     = { app = "api2lake", layer = each.value }
  depends_on                 = [google_project_service.apis]
}

# ---------------------------------------------------------------- serving store

resource "google_bigtable_instance" "serving" {
  name                = var.bigtable_instance
  deletion_protection = var.deletion_protection
  labels              = { app = "api2lake" }

  cluster {
    cluster_id   = "${var.bigtable_instance}-c1"
    zone         = var.bigtable_zone
    num_nodes    = var.bigtable_nodes
    storage_type = "SSD"
  }
  depends_on = [google_project_service.apis]
}

# ---------------------------------------------------------------- invoices stream

resource "google_pubsub_topic" "invoices" {
  name       = var.invoices_topic
  labels     = { app = "api2lake" }
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "invoices_dead_letter" {
  name       = "${var.invoices_topic}-deadletter"
  labels     = { app = "api2lake" }
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_subscription" "invoices" {
  name                       = var.invoices_subscription
  topic                      = google_pubsub_topic.invoices.id
  ack_deadline_seconds       = 120
  message_retention_duration = "604800s"

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.invoices_dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
  expiration_policy {
    ttl = "" # never expires
  }
}

# Keeps dead-lettered messages (a topic alone retains nothing) for inspection and replay.
resource "google_pubsub_subscription" "invoices_dead_letter" {
  name                       = "${var.invoices_topic}-deadletter-hold"
  topic                      = google_pubsub_topic.invoices_dead_letter.id
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }
}

# The Pub/Sub service agent moves undeliverable messages: publish to the dead-letter topic,
# acknowledge on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.invoices_dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  subscription = google_pubsub_subscription.invoices.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# ---------------------------------------------------------------- service accounts

# Runs the Flex Template launcher VM and the Dataflow workers.
resource "google_service_account" "pipeline" {
  account_id   = "api2lake-pipeline"
  display_name = "api2lake Dataflow pipeline"
}

# Runs the publisher (Cloud Run job).
resource "google_service_account" "publisher" {
  account_id   = "api2lake-publisher"
  display_name = "api2lake publisher"
}

# Identity of both Cloud Scheduler jobs: may launch the template and run the publisher job.
resource "google_service_account" "scheduler" {
  account_id   = "api2lake-scheduler"
  display_name = "api2lake scheduler"
}

# pipeline: project-wide only what cannot be scoped to a resource.
resource "google_project_iam_member" "pipeline" {
  for_each = toset([
    "roles/dataflow.worker",  # work items, logs and metrics of its own jobs
    "roles/bigquery.jobUser", # load jobs, MERGE and queries (data access is per dataset below)
  ])
  project = var.project
  role    = each.value
  member  = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_storage_bucket_iam_member" "pipeline_lake" {
  bucket = google_storage_bucket.lake.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_bigquery_dataset_iam_member" "pipeline" {
  for_each   = google_bigquery_dataset.layer
  dataset_id = each.value.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.pipeline.email}"
}

# The serving store creates its tables and column families on first use (bigtable.tables.create),
# which bigtable.user does not allow; admin is granted on this instance only.
resource "google_bigtable_instance_iam_member" "pipeline" {
  instance = google_bigtable_instance.serving.name
  role     = "roles/bigtable.admin"
  member   = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_pubsub_subscription_iam_member" "pipeline_stream" {
  subscription = google_pubsub_subscription.invoices.id
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_artifact_registry_repository_iam_member" "pipeline_pull" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.repository_id
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.pipeline.email}"
}

# The workers read the secrets that source configs reference as ${sm:projects/P/secrets/ID/versions/V}.
resource "google_secret_manager_secret_iam_member" "pipeline" {
  for_each  = var.pipeline_secrets
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.pipeline.email}"
}

# publisher: publish to its topic, pull its image, read its secrets.
resource "google_pubsub_topic_iam_member" "publisher" {
  topic  = google_pubsub_topic.invoices.id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.publisher.email}"
}

resource "google_artifact_registry_repository_iam_member" "publisher_pull" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.repository_id
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.publisher.email}"
}

resource "google_secret_manager_secret_iam_member" "publisher" {
  for_each  = var.publisher_secrets
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.publisher.email}"
}

# scheduler: create Dataflow jobs that run as the pipeline account, read the template spec,
# run the publisher job.
resource "google_project_iam_member" "scheduler_dataflow" {
  project = var.project
  role    = "roles/dataflow.developer"
  member  = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_service_account_iam_member" "scheduler_acts_as_pipeline" {
  service_account_id = google_service_account.pipeline.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_storage_bucket_iam_member" "scheduler_template" {
  bucket = google_storage_bucket.lake.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_run_v2_job_iam_member" "scheduler_runs_publisher" {
  name     = google_cloud_run_v2_job.publisher.name
  location = google_cloud_run_v2_job.publisher.location
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

# ---------------------------------------------------------------- hourly batch (Flex Template)

resource "google_cloud_scheduler_job" "batch" {
  name             = "api2lake-batch"
  description      = "Launches the api2lake Flex Template (api2lake run on Dataflow)"
  region           = var.region
  schedule         = var.schedule
  time_zone        = var.time_zone
  attempt_deadline = "320s"

  retry_config {
    retry_count = 1
  }

  http_target {
    http_method = "POST"
    uri         = "https://dataflow.googleapis.com/v1b3/projects/${var.project}/locations/${var.region}/flexTemplates:launch"
    headers     = { "Content-Type" = "application/json" }
    body = base64encode(jsonencode({
      launchParameter = {
        jobName              = "api2lake-batch"
        containerSpecGcsPath = local.template_spec_path
        # Template parameters: names declared in pipeline/options.ts (deploy/metadata.json).
        parameters = {
          config             = var.config
          entities           = var.entities
          requestConcurrency = tostring(var.request_concurrency)
          project            = var.project
          bucket             = google_storage_bucket.lake.name
          datasetPrefix      = var.dataset_prefix
          bigtableInstance   = google_bigtable_instance.serving.name
          location           = var.location
        }
        # Dataflow's runtime environment: maxWorkers here is the API's VM count (api2lake --maxNumWorkers).
        environment = {
          serviceAccountEmail  = google_service_account.pipeline.email
          tempLocation         = "gs://${google_storage_bucket.lake.name}/tmp"
          stagingLocation      = "gs://${google_storage_bucket.lake.name}/staging"
          maxWorkers           = var.dataflow_max_workers
          machineType          = var.dataflow_machine_type
          additionalUserLabels = { app = "api2lake" }
        }
      }
    }))

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }
  depends_on = [google_project_service.apis]
}

# ---------------------------------------------------------------- publisher (Cloud Run job)

resource "google_cloud_run_v2_job" "publisher" {
  name                = "api2lake-publisher"
  location            = var.region
  deletion_protection = false
  labels              = { app = "api2lake" }

  template {
    task_count  = 1
    parallelism = 1
    template {
      service_account = google_service_account.publisher.email
      max_retries     = 1
      timeout         = "1800s"
      containers {
        image   = var.image
        command = ["node"]
        # api2lake publish: fetch the source and publish its records to the invoices topic.
        args = ["/template/bin/api2lake.js", "publish", "--config", var.publisher_config, "--project", var.project, "--topic", google_pubsub_topic.invoices.name]
        resources {
          limits = { cpu = "1", memory = "1Gi" }
        }
        dynamic "env" {
          for_each = var.publisher_secrets
          content {
            name = env.key
            value_source {
              secret_key_ref {
                secret  = env.value
                version = "latest"
              }
            }
          }
        }
      }
    }
  }
  depends_on = [google_project_service.apis, google_secret_manager_secret_iam_member.publisher]
}

resource "google_cloud_scheduler_job" "publisher" {
  name             = "api2lake-publisher"
  description      = "Runs the api2lake publisher job (api2lake publish)"
  region           = var.region
  schedule         = var.publisher_schedule
  time_zone        = var.time_zone
  attempt_deadline = "320s"

  retry_config {
    retry_count = 1
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project}/locations/${var.region}/jobs/${google_cloud_run_v2_job.publisher.name}:run"
    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }
  depends_on = [google_cloud_run_v2_job_iam_member.scheduler_runs_publisher]
}
