"""The two flows users know, driven from Python against the real leadledgerd.

PULSE: create a lead, classify it, see the follow-up on the agenda 7 days
out, complete it with NOT_SURE_YET, see the next follow-up 14 days out.

Odoo: find a duplicate, merge the two leads, convert the survivor with a new
customer, mark it lost, find it with the lost filter, restore it.

Run by ctest with /usr/bin/python3 (Debian's python3-grpcio and
python3-protobuf); PYTHONPATH holds the stubs generated at build time and
LEADLEDGERD the server binary.
"""

import datetime
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import grpc

from leadledger.v1 import lead_pb2
from leadledger.v1 import lead_service_pb2
from leadledger.v1 import lead_service_pb2_grpc
from leadledger.v1 import task_service_pb2
from leadledger.v1 import task_service_pb2_grpc

TIMEOUT = 30


class Server:
    """One leadledgerd on an ephemeral port over a fresh data directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="leadledger-flows-")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.process = subprocess.Popen(
            [os.environ["LEADLEDGERD"], "--listen=127.0.0.1:0",
             "--data_dir=" + os.path.join(self.dir, "data"),
             "--port_file=" + port_file],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + TIMEOUT
        port = None
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with open(port_file) as f:
                    port = int(f.read().strip())
                break
            except (FileNotFoundError, ValueError):
                time.sleep(0.02)
        if port is None:
            self.stop()
            raise RuntimeError("leadledgerd did not start")
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % port)
        grpc.channel_ready_future(self.channel).result(timeout=TIMEOUT)
        self.leads = lead_service_pb2_grpc.LeadServiceStub(self.channel)
        self.tasks = task_service_pb2_grpc.TaskServiceStub(self.channel)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=TIMEOUT)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def due_day(task):
    return task.due_time.ToDatetime().date()


class FlowsTest(unittest.TestCase):

    def setUp(self):
        self.server = Server()
        self.metadata = (("x-actor", "flows-test"),)

    def tearDown(self):
        self.server.channel.close()
        self.server.stop()

    def call(self, method, request):
        return method(request, timeout=TIMEOUT, metadata=self.metadata)

    def agenda(self, owner, min_position):
        return self.call(self.server.tasks.ListAgenda,
                         task_service_pb2.ListAgendaRequest(
                             owner_id=owner, min_position=min_position)).items

    def test_pulse_classify_complete_follow_up(self):
        today = datetime.datetime.now(datetime.timezone.utc).date()
        created = self.call(self.server.leads.CreateLead,
                            lead_service_pb2.CreateLeadRequest(
                                lead=lead_pb2.Lead(display_name="Roof for Ana",
                                                   owner_id="ana")))
        classified = self.call(self.server.leads.ClassifyLead,
                               lead_service_pb2.ClassifyLeadRequest(
                                   name=created.lead.name,
                                   classification="POTENTIAL_CONSULTANT"))
        self.assertIn("Potential consultant", classified.lead.tags)

        items = self.agenda("ana", classified.log_position)
        self.assertEqual(len(items), 1)
        first = items[0].task
        self.assertEqual(first.kind, task_service_pb2.TASK_KIND_FOLLOW_UP)
        self.assertTrue(first.automatic)
        self.assertIn(due_day(first) - today, (datetime.timedelta(days=7),
                                               datetime.timedelta(days=6)))

        completed = self.call(self.server.tasks.CompleteTask,
                              task_service_pb2.CompleteTaskRequest(
                                  name=first.name, outcome="NOT_SURE_YET",
                                  note="asked to call back"))
        items = self.agenda("ana", completed.log_position)
        self.assertEqual(len(items), 1)
        second = items[0].task
        self.assertNotEqual(second.name, first.name)
        self.assertIn(due_day(second) - today, (datetime.timedelta(days=14),
                                                datetime.timedelta(days=13)))
        self.assertEqual(completed.lead.classification, "POTENTIAL_CONSULTANT")

    def test_odoo_duplicates_merge_convert_lost_restore(self):
        leads = self.server.leads
        first = self.call(leads.CreateLead, lead_service_pb2.CreateLeadRequest(
            lead=lead_pb2.Lead(display_name="Solar panels",
                               email="Bo@Example.com", owner_id="bo"))).lead
        second = self.call(leads.CreateLead, lead_service_pb2.CreateLeadRequest(
            lead=lead_pb2.Lead(display_name="Solar panels (web form)",
                               email="bo@example.com", phone="+1 415 555 0100",
                               owner_id="bo")))

        duplicates = self.call(leads.FindDuplicates,
                               lead_service_pb2.FindDuplicatesRequest(
                                   name=first.name,
                                   min_position=second.log_position))
        self.assertEqual([d.lead.name for d in duplicates.duplicates],
                         [second.lead.name])
        self.assertIn(lead_service_pb2.DUPLICATE_CRITERION_EMAIL,
                      duplicates.duplicates[0].criteria)

        merged = self.call(leads.MergeLeads, lead_service_pb2.MergeLeadsRequest(
            names=[first.name, second.lead.name]))
        head = merged.lead
        self.assertEqual(head.phone_e164, "+14155550100")
        gone = [name for name in (first.name, second.lead.name)
                if name != head.name]
        merged_away = self.call(leads.GetLead, lead_service_pb2.GetLeadRequest(
            name=gone[0])).lead
        self.assertEqual(merged_away.status, lead_pb2.LEAD_STATUS_MERGED)
        self.assertEqual(merged_away.merged_into, head.name)

        converted = self.call(leads.ConvertLead,
                              lead_service_pb2.ConvertLeadRequest(
                                  name=head.name,
                                  customer_action=lead_service_pb2.CUSTOMER_ACTION_CREATE_NEW))
        self.assertEqual(converted.lead.kind, lead_pb2.LEAD_KIND_OPPORTUNITY)
        self.assertTrue(converted.customer_id)
        self.assertEqual(converted.lead.customer_id, converted.customer_id)

        lost = self.call(leads.MarkLeadLost, lead_service_pb2.MarkLeadLostRequest(
            name=head.name, lost_reason="Too expensive",
            etag=converted.lead.etag))
        self.assertEqual(lost.lead.status, lead_pb2.LEAD_STATUS_LOST)

        lost_filter = self.call(leads.ListLeads, lead_service_pb2.ListLeadsRequest(
            status=lead_pb2.LEAD_STATUS_LOST, min_position=lost.log_position))
        self.assertEqual([l.name for l in lost_filter.leads], [head.name])
        self.assertEqual(lost_filter.leads[0].lost_reason, "Too expensive")

        restored = self.call(leads.RestoreLead, lead_service_pb2.RestoreLeadRequest(
            name=head.name))
        self.assertEqual(restored.lead.status, lead_pb2.LEAD_STATUS_ACTIVE)
        lost_filter = self.call(leads.ListLeads, lead_service_pb2.ListLeadsRequest(
            status=lead_pb2.LEAD_STATUS_LOST, min_position=restored.log_position))
        self.assertEqual(len(lost_filter.leads), 0)
        opportunities = self.call(leads.ListLeads, lead_service_pb2.ListLeadsRequest(
            kind=lead_pb2.LEAD_KIND_OPPORTUNITY, status=lead_pb2.LEAD_STATUS_ACTIVE,
            min_position=restored.log_position))
        self.assertEqual([l.name for l in opportunities.leads], [head.name])

    def test_errors_reach_python_with_their_codes(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.call(self.server.leads.CreateLead,
                      lead_service_pb2.CreateLeadRequest(lead=lead_pb2.Lead()))
        self.assertEqual(caught.exception.code(),
                         grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("lead.display_name", caught.exception.details())
        with self.assertRaises(grpc.RpcError) as caught:
            self.call(self.server.leads.GetLead,
                      lead_service_pb2.GetLeadRequest(name="leads/nobody"))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main()
