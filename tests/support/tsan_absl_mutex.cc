// tests/support/tsan_absl_mutex.cc. Linked into the ThreadSanitizer build only
// (SLUICE_SANITIZE=thread): tells TSan what absl::Mutex synchronises.
//
// Debian's libabsl_synchronization is not built with -fsanitize=thread, so Abseil's own TSan
// annotations (ABSL_TSAN_MUTEX_*) are compiled out of it and TSan cannot see that a Mutex
// orders the accesses it guards: every access under a MutexLock would be reported as a race.
// The TSan build links with -Wl,--wrap for the Mutex members sluice calls (Lock, Unlock, Await,
// ReaderLock, ReaderUnlock; cmake/sluice.cmake); each wrapper calls the real one and reports the
// release or acquire to TSan, as an instrumented Abseil would. Nothing is suppressed: an access
// that no Mutex orders is still reported.
#include <sanitizer/tsan_interface.h>

#include "absl/synchronization/mutex.h"

// Abseil's mangled names (inline namespace debian3, Abseil 20220623). If they change, the
// __real_ symbols below no longer resolve and the TSan build fails to link.
extern "C" {
void __real__ZN4absl7debian35Mutex4LockEv(absl::Mutex* mu);
void __real__ZN4absl7debian35Mutex6UnlockEv(absl::Mutex* mu);
void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(absl::Mutex* mu,
                                                           const absl::Condition* condition);
void __real__ZN4absl7debian35Mutex10ReaderLockEv(absl::Mutex* mu);
void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(absl::Mutex* mu);
void __wrap__ZN4absl7debian35Mutex4LockEv(absl::Mutex* mu);
void __wrap__ZN4absl7debian35Mutex6UnlockEv(absl::Mutex* mu);
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(absl::Mutex* mu);
void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(absl::Mutex* mu);
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(absl::Mutex* mu,
                                                           const absl::Condition* condition);
}

namespace {

struct Waiting {
  absl::Mutex* mu;
  const absl::Condition* condition;
};

// Abseil evaluates a waiter's condition with `mu` held, in the waiting thread or in the thread
// that is unlocking, and may release `mu` right after without another Unlock() call: the
// evaluation is a critical section of its own.
bool EvalHoldingMutex(void* arg) {
  const auto* waiting = static_cast<const Waiting*>(arg);
  __tsan_acquire(waiting->mu);
  const bool result = waiting->condition->Eval();
  __tsan_release(waiting->mu);
  return result;
}

}  // namespace

void __wrap__ZN4absl7debian35Mutex4LockEv(absl::Mutex* mu) {
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  __tsan_acquire(mu);
}

void __wrap__ZN4absl7debian35Mutex6UnlockEv(absl::Mutex* mu) {
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
}

// A reader acquires what writers released; its release orders its reads before the next
// writer's acquire (and, harmlessly, before later readers').
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(absl::Mutex* mu) {
  __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  __tsan_acquire(mu);
}

void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(absl::Mutex* mu) {
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
}

void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(absl::Mutex* mu,
                                                           const absl::Condition* condition) {
  // Await may release `mu` while it waits, and holds it again when it returns.
  Waiting waiting{mu, condition};
  const absl::Condition annotated(&EvalHoldingMutex, &waiting);
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, &annotated);
  __tsan_acquire(mu);
}
