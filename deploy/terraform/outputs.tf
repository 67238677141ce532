output "bucket" {
  description = "api2lake --bucket"
  value       = google_storage_bucket.lake.name
}

output "datasets" {
  description = "BigQuery datasets lake, hub, dataproducts"
  value       = { for k, d in google_bigquery_dataset.layer : k => d.dataset_id }
}

output "bigtable_instance" {
  description = "api2lake --bigtableInstance"
  value       = google_bigtable_instance.serving.name
}

output "invoices_topic" {
  value = google_pubsub_topic.invoices.name
}

output "invoices_subscription" {
  value = google_pubsub_subscription.invoices.name
}

output "invoices_dead_letter_topic" {
  value = google_pubsub_topic.invoices_dead_letter.name
}

output "pipeline_service_account" {
  description = "Runs the Flex Template launcher and the Dataflow workers"
  value       = google_service_account.pipeline.email
}

output "publisher_service_account" {
  value = google_service_account.publisher.email
}

output "image_repository" {
  description = "Push the image built from deploy/flex-template here"
  value       = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.images.repository_id}"
}

output "template_spec_gcs_path" {
  description = "Pass to `gcloud dataflow flex-template build`"
  value       = local.template_spec_path
}

output "batch_schedule_job" {
  value = google_cloud_scheduler_job.batch.name
}

output "publisher_job" {
  value = google_cloud_run_v2_job.publisher.name
}
