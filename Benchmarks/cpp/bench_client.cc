// bench-client: the C++ gRPC peer for Scripts/bench.sh. One channel (one HTTP/2 connection), the
// async API, one thread driving one completion queue; keeps `concurrency` calls in flight for
// `duration` seconds and prints one RESULT line, like conductor-bench and grpc-swift-peer.
//
// Usage: bench-client --target grpc[s]://127.0.0.1:PORT --scenario unary|concurrent|batch|submit
//                     [--concurrency N] [--duration S] [--calls N] [--ca FILE]
//   grpcs://: TLS, verified against --ca (PEM). --calls: stop after N calls (the cold start: 1).
//   unary/concurrent: GetDayProof(7); batch: SubmitEventsBatch of 100 events of 200 bytes;
//   submit: SubmitEvent of one such event. Default concurrency: unary 1, concurrent 64, batch 8,
//   submit 64.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "conductor.grpc.pb.h"
#include "latency_histogram.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kDay = 7;
constexpr int kEventsPerBatch = 100;
constexpr int kPayloadBytes = 200;

struct Options {
  std::string target;
  std::string scenario;
  int concurrency = 0;
  double duration = 10;
  uint64_t calls = 0;  // 0: as many as the duration allows
  bool tls = false;
  std::string ca_file;
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: bench-client --target grpc[s]://HOST:PORT --scenario unary|concurrent|batch|submit "
               "[--concurrency N] [--duration S] [--calls N] [--ca FILE]\n");
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) Usage();
    const std::string value = argv[++i];
    if (arg == "--target") {
      options.target = value;
    } else if (arg == "--scenario") {
      options.scenario = value;
    } else if (arg == "--concurrency") {
      options.concurrency = std::atoi(value.c_str());
    } else if (arg == "--duration") {
      options.duration = std::atof(value.c_str());
    } else if (arg == "--calls") {
      options.calls = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--ca") {
      options.ca_file = value;
    } else {
      Usage();
    }
  }
  if (options.target.rfind("grpc://", 0) == 0) options.target = options.target.substr(7);
  if (options.target.rfind("grpcs://", 0) == 0) {
    options.target = options.target.substr(8);
    options.tls = true;
  }
  if (options.target.empty()) Usage();
  if (options.concurrency <= 0) {
    if (options.scenario == "unary") options.concurrency = 1;
    else if (options.scenario == "batch") options.concurrency = 8;
    else options.concurrency = 64;
  }
  return options;
}

chorus::ConductorEvent MakeEvent() {
  chorus::ConductorEvent event;
  event.set_event_type("bench.event");
  event.set_epoch(1);
  std::string payload(kPayloadBytes, '\0');
  for (int i = 0; i < kPayloadBytes; ++i) payload[i] = static_cast<char>(i);
  event.set_payload(payload);
  (*event.mutable_metadata())["origin"] = "bench";
  return event;
}

// Everything the calls share; each completion either records and restarts its call or retires it.
struct Run {
  chorus::ConductorBridge::Stub* stub;
  grpc::CompletionQueue* queue;
  int kind;  // 0 day proof, 1 batch, 2 submit
  chorus::DayProofRequest day_request;
  chorus::ConductorEventBatch batch;
  chorus::ConductorEvent event;
  Clock::time_point end;
  uint64_t quota = 0;  // calls to start in all; 0: no limit
  uint64_t started = 0;
  LatencyHistogram histogram;
  uint64_t calls = 0;
  uint64_t errors = 0;
};

// One slot of concurrency: a call in flight, restarted with a fresh ClientContext when it completes.
class Slot {
 public:
  explicit Slot(Run* run) : run_(run) {}

  void Start() {
    // A reader lives in its call's arena, which the ClientContext owns: release it first.
    day_reader_.reset();
    batch_reader_.reset();
    receipt_reader_.reset();
    context_ = std::make_unique<grpc::ClientContext>();
    ++run_->started;
    started_ = Clock::now();
    switch (run_->kind) {
      case 0:
        day_reader_ = run_->stub->AsyncGetDayProof(context_.get(), run_->day_request, run_->queue);
        day_reader_->Finish(&day_response_, &status_, this);
        break;
      case 1:
        batch_reader_ = run_->stub->AsyncSubmitEventsBatch(context_.get(), run_->batch, run_->queue);
        batch_reader_->Finish(&batch_response_, &status_, this);
        break;
      default:
        receipt_reader_ = run_->stub->AsyncSubmitEvent(context_.get(), run_->event, run_->queue);
        receipt_reader_->Finish(&receipt_response_, &status_, this);
        break;
    }
  }

  // Returns whether the slot started another call.
  bool Complete() {
    const Clock::time_point now = Clock::now();
    ++run_->calls;
    if (status_.ok()) {
      run_->histogram.Record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - started_).count()));
    } else {
      if (run_->errors == 0) {
        std::fprintf(stderr, "bench-client: first error: %d %s\n", static_cast<int>(status_.error_code()),
                     status_.error_message().c_str());
      }
      ++run_->errors;
    }
    if (now >= run_->end || (run_->quota != 0 && run_->started >= run_->quota)) return false;
    Start();
    return true;
  }

 private:
  Run* run_;
  std::unique_ptr<grpc::ClientContext> context_;
  Clock::time_point started_;
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<chorus::DayProofResponse>> day_reader_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<chorus::ConductorReceiptBatch>> batch_reader_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<chorus::ConductorReceipt>> receipt_reader_;
  chorus::DayProofResponse day_response_;
  chorus::ConductorReceiptBatch batch_response_;
  chorus::ConductorReceipt receipt_response_;
};

}  // namespace

int main(int argc, char** argv) {
  const Options options = Parse(argc, argv);
  Run run;
  if (options.scenario == "unary" || options.scenario == "concurrent") {
    run.kind = 0;
  } else if (options.scenario == "batch") {
    run.kind = 1;
  } else if (options.scenario == "submit") {
    run.kind = 2;
  } else {
    std::fprintf(stderr, "bench-client: unknown scenario %s\n", options.scenario.c_str());
    return 2;
  }
  run.day_request.set_day_number(kDay);
  run.event = MakeEvent();
  for (int i = 0; i < kEventsPerBatch; ++i) *run.batch.add_events() = run.event;

  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(4 << 20);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty()) {
      std::ifstream file(options.ca_file);
      if (!file) {
        std::fprintf(stderr, "bench-client: cannot read %s\n", options.ca_file.c_str());
        return 2;
      }
      ssl.pem_root_certs.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    credentials = grpc::SslCredentials(ssl);
  }
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(options.target, credentials, arguments);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::fprintf(stderr, "bench-client: cannot connect to %s\n", options.target.c_str());
    return 1;
  }
  std::unique_ptr<chorus::ConductorBridge::Stub> stub = chorus::ConductorBridge::NewStub(channel);
  grpc::CompletionQueue queue;
  run.stub = stub.get();
  run.queue = &queue;

  const Clock::time_point start = Clock::now();
  run.end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.duration));
  run.quota = options.calls;
  int concurrency = options.concurrency;
  if (run.quota != 0 && static_cast<uint64_t>(concurrency) > run.quota) concurrency = static_cast<int>(run.quota);
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < concurrency; ++i) {
    slots.push_back(std::make_unique<Slot>(&run));
    slots.back()->Start();
  }
  int in_flight = concurrency;
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && queue.Next(&tag, &ok)) {
    if (!static_cast<Slot*>(tag)->Complete()) --in_flight;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }

  const uint64_t events = run.kind == 1 ? run.calls * kEventsPerBatch : run.calls;
  std::printf("RESULT client=cpp scenario=%s concurrency=%d calls=%llu events=%llu errors=%llu "
              "seconds=%.3f p50_us=%.1f p99_us=%.1f\n",
              options.scenario.c_str(), options.concurrency, static_cast<unsigned long long>(run.calls),
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(run.errors), seconds,
              run.histogram.Percentile(0.50) / 1000, run.histogram.Percentile(0.99) / 1000);
  return run.errors == 0 ? 0 : 1;
}
