"""The reference for the streaming check: Python's own ReadFromPubSub, submitted offline.

Builds the smallest Python streaming pipeline that reads a Pub/Sub subscription (with attributes,
as api2lake's graph does), windows it into one-day event-time windows with the trigger api2lake
uses, and groups it; submits it through Beam 2.49.0's DataflowRunner with template_location,
local staging and no_auth (no Google API is called), exactly like check-submission.sh submits
the TypeScript graph. check-streaming.sh then compares how the read and the windowing appear
in both submissions (inspect_streaming.py).

usage: python python_streaming_reference.py <work dir> <subscription>
"""
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner
from apache_beam.transforms import trigger, window


def main(work, subscription):
    options = PipelineOptions(
        runner="DataflowRunner",
        project="some-project",
        region="europe-west1",
        job_name="python-streaming-reference",
        streaming=True,
        template_location=f"{work}/job.json",
        staging_location=f"{work}/staging",
        temp_location=f"{work}/tmp",
        no_auth=True,
        # The SDK is in the worker image: nothing is fetched from PyPI to stage it.
        sdk_location="container",
    )
    # Built without a runner so that constructing it does not validate (and try to create) a
    # default gs:// bucket; DataflowRunner then runs it with the Dataflow options, as p.run() would.
    p = beam.Pipeline(options=PipelineOptions(streaming=True))
    (
        p
        | "ReadPubSub" >> beam.io.ReadFromPubSub(subscription=subscription, with_attributes=True)
        | "Key" >> beam.Map(lambda m: (m.attributes.get("id", ""), m.data))
        | "DailyWindows" >> beam.WindowInto(
            window.FixedWindows(86400),
            trigger=trigger.AfterWatermark(early=trigger.AfterProcessingTime(900), late=trigger.AfterProcessingTime(900)),
            allowed_lateness=2 * 86400,
            accumulation_mode=trigger.AccumulationMode.DISCARDING,
        )
        | "Group" >> beam.GroupByKey()
    )
    DataflowRunner().run_pipeline(p, options)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
