// bench-server: a fast chorus.ConductorBridge server for Scripts/bench.sh, on gRPC C++'s async API.
//
// Answers deterministically, as the reference conductor (Scripts/reference_conductor.py) does:
//   GetDayProof(d): days 1..999 are canonical, proof "proof-of-day-<d>", proof_hash = sha256 hex of
//     the proof; any other day answers NOT_FOUND.
//   SubmitEvent / SubmitEventsBatch: one receipt per event, in order; event_hash = sha256 hex over the
//     reference conductor's canonical encoding of the event's content, epoch = the event's epoch.
//   HealthCheck: SERVING.
//
// Usage: bench-server [--port N] [--threads N] [--tls-cert FILE --tls-key FILE]
//   --port 0 (the default) picks a free port. Prints "LISTENING <port>" once it serves.
//   --threads: completion-queue threads (default 1: the bench pins the server to one core).
//   --tls-cert/--tls-key: serve TLS with this PEM certificate (chain) and key (issue 16's (f), (h)).
// SIGUSR1 prints "STATS rpcs=<n> day_proof=<n> submit=<n> batch=<n> health=<n>" (counts so far);
// SIGINT/SIGTERM shut the server down.

#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "conductor.grpc.pb.h"

namespace {

using chorus::ConductorBridge;
using Service = ConductorBridge::AsyncService;

constexpr int kCanonicalDays = 999;
constexpr int kPendingAcceptsPerMethod = 32;
constexpr const char* kSource = "bench-conductor";

constexpr int kDigestLength = 32;

std::string HexDigest(const unsigned char digest[kDigestLength]) {
  static const char* kHex = "0123456789abcdef";
  std::string out(kDigestLength * 2, '0');
  for (int i = 0; i < kDigestLength; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[kDigestLength];
  EVP_Digest(text.data(), text.size(), digest, nullptr, EVP_sha256(), nullptr);
  return HexDigest(digest);
}

// The reference conductor's canonical event encoding: "chorus-event-v1", then each part with an
// 8-byte big-endian length prefix: event_type, epoch (4 bytes big-endian), payload; then the number
// of metadata entries (8 bytes big-endian) and each key and value, in key order.
class EventHasher {
 public:
  EventHasher() : ctx_(EVP_MD_CTX_new()) {}
  ~EventHasher() { EVP_MD_CTX_free(ctx_); }
  EventHasher(const EventHasher&) = delete;
  EventHasher& operator=(const EventHasher&) = delete;

  std::string Hash(const chorus::ConductorEvent& event) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
    Update("chorus-event-v1", 15);
    Part(event.event_type().data(), event.event_type().size());
    const uint32_t epoch = static_cast<uint32_t>(event.epoch());
    const unsigned char epoch_bytes[4] = {static_cast<unsigned char>(epoch >> 24),
                                          static_cast<unsigned char>(epoch >> 16),
                                          static_cast<unsigned char>(epoch >> 8),
                                          static_cast<unsigned char>(epoch)};
    Part(epoch_bytes, 4);
    Part(event.payload().data(), event.payload().size());
    Length(event.metadata().size());
    if (!event.metadata().empty()) {
      keys_.clear();
      for (const auto& entry : event.metadata()) keys_.push_back(&entry.first);
      std::sort(keys_.begin(), keys_.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
      for (const std::string* key : keys_) {
        const std::string& value = event.metadata().at(*key);
        Part(key->data(), key->size());
        Part(value.data(), value.size());
      }
    }
    unsigned char digest[kDigestLength];
    EVP_DigestFinal_ex(ctx_, digest, nullptr);
    return HexDigest(digest);
  }

 private:
  void Update(const void* data, size_t size) { EVP_DigestUpdate(ctx_, data, size); }
  void Length(uint64_t size) {
    unsigned char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(size >> (56 - 8 * i));
    Update(bytes, 8);
  }
  void Part(const void* data, size_t size) {
    Length(size);
    Update(data, size);
  }

  EVP_MD_CTX* ctx_;
  std::vector<const std::string*> keys_;
};

struct Counters {
  std::atomic<uint64_t> day_proof{0}, submit{0}, batch{0}, health{0};
};

// Everything a handler needs, one per completion-queue thread (so nothing is shared but counters).
struct Context {
  Context(const std::vector<chorus::DayProofResponse>* proofs, Counters* counters)
      : proofs(proofs), counters(counters) {}
  const std::vector<chorus::DayProofResponse>* proofs;
  Counters* counters;
  EventHasher hasher;
};

grpc::Status HandleDayProof(Context& context, const chorus::DayProofRequest& request,
                            chorus::DayProofResponse* response) {
  context.counters->day_proof.fetch_add(1, std::memory_order_relaxed);
  const int day = request.day_number();
  if (day < 1 || day > kCanonicalDays) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no proof for day " + std::to_string(day));
  }
  *response = (*context.proofs)[day];
  return grpc::Status::OK;
}

grpc::Status HandleSubmit(Context& context, const chorus::ConductorEvent& event,
                          chorus::ConductorReceipt* receipt) {
  context.counters->submit.fetch_add(1, std::memory_order_relaxed);
  receipt->set_event_hash(context.hasher.Hash(event));
  receipt->set_epoch(event.epoch());
  return grpc::Status::OK;
}

grpc::Status HandleBatch(Context& context, const chorus::ConductorEventBatch& batch,
                         chorus::ConductorReceiptBatch* receipts) {
  context.counters->batch.fetch_add(1, std::memory_order_relaxed);
  receipts->mutable_receipts()->Reserve(batch.events_size());
  for (const auto& event : batch.events()) {
    chorus::ConductorReceipt* receipt = receipts->add_receipts();
    receipt->set_event_hash(context.hasher.Hash(event));
    receipt->set_epoch(event.epoch());
  }
  return grpc::Status::OK;
}

grpc::Status HandleHealth(Context& context, const chorus::HealthCheckRequest&,
                          chorus::HealthCheckResponse* response) {
  context.counters->health.fetch_add(1, std::memory_order_relaxed);
  response->set_status(chorus::HealthCheckResponse::SERVING);
  return grpc::Status::OK;
}

// A completion-queue tag: one accepted-or-awaited unary call.
class Tag {
 public:
  virtual ~Tag() = default;
  virtual void Proceed(bool ok) = 0;
};

// One unary call's life: wait for a request, answer it, then free itself. Accepting a request
// immediately posts the next accept, so `kPendingAcceptsPerMethod` are always waiting.
template <class Request, class Response>
class UnaryCall final : public Tag {
 public:
  using RequestMethod = void (Service::*)(grpc::ServerContext*, Request*,
                                          grpc::ServerAsyncResponseWriter<Response>*,
                                          grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);
  using Handler = grpc::Status (*)(Context&, const Request&, Response*);

  static void Accept(Service* service, grpc::ServerCompletionQueue* queue, Context* context,
                     RequestMethod method, Handler handler) {
    new UnaryCall(service, queue, context, method, handler);
  }

  void Proceed(bool ok) override {
    if (answered_ || !ok) {
      delete this;
      return;
    }
    Accept(service_, queue_, context_, method_, handler_);
    answered_ = true;
    const grpc::Status status = handler_(*context_, request_, &response_);
    if (status.ok()) {
      writer_.Finish(response_, status, this);
    } else {
      writer_.FinishWithError(status, this);
    }
  }

 private:
  UnaryCall(Service* service, grpc::ServerCompletionQueue* queue, Context* context,
            RequestMethod method, Handler handler)
      : service_(service), queue_(queue), context_(context), method_(method), handler_(handler),
        writer_(&server_context_) {
    (service_->*method_)(&server_context_, &request_, &writer_, queue_, queue_, this);
  }

  Service* service_;
  grpc::ServerCompletionQueue* queue_;
  Context* context_;
  RequestMethod method_;
  Handler handler_;
  grpc::ServerContext server_context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> writer_;
  bool answered_ = false;
};

void Serve(Service* service, grpc::ServerCompletionQueue* queue, Context* context) {
  for (int i = 0; i < kPendingAcceptsPerMethod; ++i) {
    UnaryCall<chorus::DayProofRequest, chorus::DayProofResponse>::Accept(
        service, queue, context, &Service::RequestGetDayProof, HandleDayProof);
    UnaryCall<chorus::ConductorEvent, chorus::ConductorReceipt>::Accept(
        service, queue, context, &Service::RequestSubmitEvent, HandleSubmit);
    UnaryCall<chorus::ConductorEventBatch, chorus::ConductorReceiptBatch>::Accept(
        service, queue, context, &Service::RequestSubmitEventsBatch, HandleBatch);
    UnaryCall<chorus::HealthCheckRequest, chorus::HealthCheckResponse>::Accept(
        service, queue, context, &Service::RequestHealthCheck, HandleHealth);
  }
  void* tag = nullptr;
  bool ok = false;
  while (queue->Next(&tag, &ok)) {
    static_cast<Tag*>(tag)->Proceed(ok);
  }
}

std::vector<chorus::DayProofResponse> MakeProofs() {
  std::vector<chorus::DayProofResponse> proofs(kCanonicalDays + 1);
  for (int day = 1; day <= kCanonicalDays; ++day) {
    const std::string proof = "proof-of-day-" + std::to_string(day);
    proofs[day].set_day_number(day);
    proofs[day].set_proof(proof);
    proofs[day].set_proof_hash(Sha256Hex(proof));
    proofs[day].set_canonical(true);
    proofs[day].set_source(kSource);
  }
  return proofs;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    std::fprintf(stderr, "bench-server: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

[[noreturn]] void Usage() {
  std::fprintf(stderr, "usage: bench-server [--port N] [--threads N] [--tls-cert FILE --tls-key FILE]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int threads = 1;
  std::string tls_cert, tls_key;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) Usage();
    if (arg == "--port") {
      port = std::atoi(argv[++i]);
    } else if (arg == "--threads") {
      threads = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--tls-cert") {
      tls_cert = argv[++i];
    } else if (arg == "--tls-key") {
      tls_key = argv[++i];
    } else {
      Usage();
    }
  }

  // Signals are taken by one thread with sigwait, so block them before any other thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::vector<chorus::DayProofResponse> proofs = MakeProofs();
  Counters counters;
  Service service;
  grpc::ServerBuilder builder;
  int selected_port = 0;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!tls_cert.empty() || !tls_key.empty()) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({ReadFile(tls_key), ReadFile(tls_cert)});
    credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), credentials, &selected_port);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues;
  for (int i = 0; i < threads; ++i) queues.push_back(builder.AddCompletionQueue());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || selected_port == 0) {
    std::fprintf(stderr, "bench-server: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }

  std::vector<std::unique_ptr<Context>> contexts;
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<Context>(&proofs, &counters));
    workers.emplace_back(Serve, &service, queues[i].get(), contexts[i].get());
  }
  std::printf("LISTENING %d\n", selected_port);
  std::fflush(stdout);

  for (;;) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number != SIGUSR1) break;
    const uint64_t day_proof = counters.day_proof.load(), submit = counters.submit.load(),
                   batch = counters.batch.load(), health = counters.health.load();
    std::printf("STATS rpcs=%llu day_proof=%llu submit=%llu batch=%llu health=%llu\n",
                static_cast<unsigned long long>(day_proof + submit + batch + health),
                static_cast<unsigned long long>(day_proof), static_cast<unsigned long long>(submit),
                static_cast<unsigned long long>(batch), static_cast<unsigned long long>(health));
    std::fflush(stdout);
  }

  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  for (auto& queue : queues) queue->Shutdown();
  for (auto& worker : workers) worker.join();
  return 0;
}
