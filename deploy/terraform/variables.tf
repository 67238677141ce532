variable "project" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of Dataflow jobs, Cloud Run, Cloud Scheduler and Artifact Registry."
  type        = string
  default     = "europe-west1"
}

variable "location" {
  description = "Location of the bucket and the BigQuery datasets (api2lake --location)."
  type        = string
  default     = "EU"
}

variable "bucket" {
  description = "Bucket for the lake, state, manifests, staging and the template spec (api2lake --bucket). Default: <project>-api2lake."
  type        = string
  default     = null
}

variable "dataset_prefix" {
  description = "Prefix of the BigQuery datasets lake, hub and dataproducts (api2lake --datasetPrefix)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[a-zA-Z0-9_]*$", var.dataset_prefix))
    error_message = "dataset_prefix: letters, digits and underscores only."
  }
}

variable "bigtable_instance" {
  description = "Bigtable instance of the serving store (api2lake --bigtableInstance)."
  type        = string
  default     = "api2lake"
}

variable "bigtable_zone" {
  description = "Zone of the Bigtable cluster."
  type        = string
  default     = "europe-west1-b"
}

variable "bigtable_nodes" {
  description = "Nodes of the Bigtable cluster (about 14k rows/s written per SSD node)."
  type        = number
  default     = 1
}

variable "image" {
  description = "The Flex Template image built from deploy/flex-template (also runs the publisher job), e.g. europe-west1-docker.pkg.dev/P/api2lake/launcher:TAG."
  type        = string
}

variable "template_spec_path" {
  description = "gs:// path of the Flex Template spec written by `gcloud dataflow flex-template build`. Default: gs://<bucket>/templates/api2lake.json."
  type        = string
  default     = null
}

variable "config" {
  description = "Source config of the hourly batch: a preset name or a path inside the image (api2lake --config)."
  type        = string
  default     = "presets/commerce.yaml"
}

variable "entities" {
  description = "Entities of the hourly batch (api2lake --entities)."
  type        = string
  default     = "ALL"
}

variable "request_concurrency" {
  description = "Requests in flight per source in each worker process (api2lake --requestConcurrency)."
  type        = number
  default     = 8
}

variable "schedule" {
  description = "Cron schedule of the batch run."
  type        = string
  default     = "0 * * * *"
}

variable "time_zone" {
  description = "Time zone of both schedules."
  type        = string
  default     = "Etc/UTC"
}

variable "dataflow_max_workers" {
  description = "Upper bound of Dataflow worker VMs per job (the launch environment's maxWorkers; api2lake --maxNumWorkers)."
  type        = number
  default     = 4
}

variable "dataflow_machine_type" {
  description = "Machine type of Dataflow workers."
  type        = string
  default     = "e2-standard-2"
}

variable "publisher_config" {
  description = "Source config the publisher fetches and publishes to the invoices topic (api2lake publish --config)."
  type        = string
  default     = "presets/invoices.yaml"
}

variable "publisher_schedule" {
  description = "Cron schedule of the publisher job."
  type        = string
  default     = "30 * * * *"
}

variable "pipeline_secrets" {
  description = "Secret ids that the batch's source configs reference as $${sm:projects/P/secrets/ID/versions/V}: the workers may read them."
  type        = set(string)
  default     = []
}

variable "publisher_secrets" {
  description = "Environment variables of the publisher read from Secret Manager: NAME => secret id (latest version). The config's $${VAR} references go here."
  type        = map(string)
  default     = {}
}

variable "invoices_topic" {
  description = "Pub/Sub topic of the invoices stream (api2lake --topic)."
  type        = string
  default     = "invoices"
}

variable "invoices_subscription" {
  description = "Subscription that api2lake stream consumes (api2lake --subscription)."
  type        = string
  default     = "invoices-api2lake"
}

variable "max_delivery_attempts" {
  description = "Deliveries of a message before it goes to the dead-letter topic (5-100)."
  type        = number
  default     = 5
}

variable "deletion_protection" {
  description = "Protect the Bigtable instance and the datasets from terraform destroy."
  type        = bool
  default     = true
}
