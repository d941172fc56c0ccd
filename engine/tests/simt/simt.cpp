// The fiber scheduler and the C interface of the emulator (see simt.h).
// Loaded by tests/common/simt.rs through dlopen; one launch at a time.

#include "simt.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <vector>

dim3 threadIdx, blockIdx, blockDim, gridDim;

extern const SimtKernel SIMT_KERNELS[];
extern const size_t SIMT_KERNEL_COUNT;

namespace {

// ---- Context switching: callee-saved registers on the fiber's stack ----

#if defined(__x86_64__)
extern "C" void simt_switch(void** save_sp, void* load_sp);
asm(R"(
    .text
    .globl simt_switch
    .type simt_switch, @function
simt_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size simt_switch, .-simt_switch
)");
#else
#error "the SIMT emulator's context switch is written for x86-64"
#endif

const size_t STACK_BYTES = 128 * 1024;

enum class State { Ready, WaitWarp, WaitBlock, Done };

struct Fiber {
    void* stack = nullptr;  // mmap'd, guard page at the bottom
    void* sp = nullptr;
    State state = State::Ready;
    dim3 idx{0, 0, 0};
    unsigned shuffles = 0;  // shuffles done: picks the exchange buffer
};

std::vector<Fiber> fibers;
void* scheduler_sp = nullptr;
size_t current = 0;
const SimtThunk* kernel = nullptr;
void** kernel_args = nullptr;
std::string error;
uint32_t exchange[2][1024];  // per thread, for even and odd shuffles

[[noreturn]] void fiber_main() {
    (*kernel)(kernel_args);
    fibers[current].state = State::Done;
    simt_switch(&fibers[current].sp, scheduler_sp);
    __builtin_unreachable();
}

// Prepares fiber f to start at fiber_main on its next switch-in.
void arm(Fiber& f) {
    if (!f.stack) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        void* mem = mmap(nullptr, STACK_BYTES + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            error = "cannot map a fiber stack";
            return;
        }
        mprotect(mem, page, PROT_NONE);
        f.stack = mem;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t top = ((uintptr_t)f.stack + page + STACK_BYTES) & ~(uintptr_t)15;
    void** sp = (void**)top;
    *--sp = nullptr;                    // fiber_main's (never used) return address
    *--sp = (void*)&fiber_main;         // popped by simt_switch's ret
    for (int i = 0; i < 6; i++) {
        *--sp = nullptr;                // rbp, rbx, r12..r15
    }
    f.sp = sp;
    f.state = State::Ready;
}

void yield(State s) {
    fibers[current].state = s;
    simt_switch(&fibers[current].sp, scheduler_sp);
}

size_t block_threads() { return (size_t)blockDim.x * blockDim.y * blockDim.z; }

// Runs one block to completion; false (and `error`) on a deadlock. Warp
// by warp: a warp's lanes run until each has finished or waits; a warp
// whose live lanes all wait on a shuffle is released at once (so a warp
// cycles through its shuffles while its stacks are hot); when every live
// thread waits on __syncthreads, the block barrier is released.
bool run_block() {
    size_t n = block_threads();
    for (size_t i = 0; i < n; i++) {
        arm(fibers[i]);
        fibers[i].shuffles = 0;
        fibers[i].idx = dim3{(unsigned)(i % blockDim.x), (unsigned)(i / blockDim.x % blockDim.y),
                             (unsigned)(i / ((size_t)blockDim.x * blockDim.y))};
    }
    if (!error.empty()) return false;
    for (;;) {
        bool progress = false;
        for (size_t lo = 0; lo < n; lo += 32) {
            size_t hi = lo + 32 < n ? lo + 32 : n;
            for (;;) {
                size_t waiting = 0, done = 0;
                for (size_t i = lo; i < hi; i++) {
                    if (fibers[i].state == State::Ready) {
                        current = i;
                        threadIdx = fibers[i].idx;
                        simt_switch(&scheduler_sp, fibers[i].sp);
                        progress = true;
                        if (!error.empty()) return false;
                    }
                    waiting += fibers[i].state == State::WaitWarp;
                    done += fibers[i].state == State::Done;
                }
                if (waiting == 0 || waiting + done != hi - lo) break;
                if (done > 0 || hi - lo != 32) {
                    error = "warp shuffle with inactive lanes in warp " + std::to_string(lo / 32);
                    return false;
                }
                for (size_t i = lo; i < hi; i++) fibers[i].state = State::Ready;
            }
        }
        if (progress) continue;
        bool all_done = true, all_block = true;
        for (size_t i = 0; i < n; i++) {
            all_done &= fibers[i].state == State::Done;
            all_block &= fibers[i].state == State::Done || fibers[i].state == State::WaitBlock;
        }
        if (all_done) return true;
        if (!all_block) {
            error = "deadlock: a barrier or shuffle reached by only part of a warp or block";
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            if (fibers[i].state == State::WaitBlock) fibers[i].state = State::Ready;
        }
    }
}

}  // namespace

void simt_syncthreads() { yield(State::WaitBlock); }

int simt_lane() { return (int)(current % 32); }

uint32_t simt_shuffle(unsigned mask, uint32_t value, int src_lane) {
    if (mask != 0xffffffffu) {
        error = "only full-warp shuffles are emulated";
    }
    // Double-buffered: shuffle k of a warp uses buffer k % 2, so a lane that
    // runs ahead to shuffle k + 1 cannot overwrite what its slower lanes
    // have yet to read from shuffle k (and k + 2 waits for all of them).
    uint32_t* slots = exchange[fibers[current].shuffles++ % 2];
    size_t base = current - current % 32;
    slots[current] = value;
    yield(State::WaitWarp);  // every lane has written
    return src_lane < 0 || src_lane > 31 ? value : slots[base + (size_t)src_lane];
}

extern "C" {

void* simt_alloc(size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t rounded = (bytes + 255) & ~(size_t)255;
    size_t data_pages = (rounded + page - 1) / page;
    size_t total = (data_pages + 1) * page;
    char* mem = (char*)mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    mprotect(mem + data_pages * page, page, PROT_NONE);
    // End the buffer as close to the guard page as 256-byte alignment allows.
    return mem + data_pages * page - rounded;
}

void simt_free(void* p, size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t rounded = (bytes + 255) & ~(size_t)255;
    size_t data_pages = (rounded + page - 1) / page;
    char* mem = (char*)p + rounded - data_pages * page;
    munmap(mem, (data_pages + 1) * page);
}

// Runs kernel `name` over the grid; 0 on success, else -1 with a message.
int simt_launch(const char* name, const unsigned* grid, const unsigned* block, void** args, char* err,
                size_t err_len) {
    static std::mutex lock;
    std::lock_guard<std::mutex> guard(lock);
    error.clear();
    const SimtThunk* found = nullptr;
    for (size_t i = 0; i < SIMT_KERNEL_COUNT; i++) {
        if (std::strcmp(SIMT_KERNELS[i].name, name) == 0) found = &SIMT_KERNELS[i].thunk;
    }
    if (!found) {
        error = std::string("no kernel named ") + name;
    }
    size_t threads = (size_t)block[0] * block[1] * block[2];
    if (error.empty() && (threads == 0 || threads > 1024 || grid[0] * grid[1] * grid[2] == 0)) {
        error = "bad launch dimensions";
    }
    if (error.empty()) {
        kernel = found;
        kernel_args = args;
        gridDim = dim3{grid[0], grid[1], grid[2]};
        blockDim = dim3{block[0], block[1], block[2]};
        if (fibers.size() < threads) fibers.resize(threads);
        for (unsigned z = 0; z < grid[2] && error.empty(); z++) {
            for (unsigned y = 0; y < grid[1] && error.empty(); y++) {
                for (unsigned x = 0; x < grid[0] && error.empty(); x++) {
                    blockIdx = dim3{x, y, z};
                    run_block();
                }
            }
        }
    }
    if (!error.empty()) {
        std::snprintf(err, err_len, "%s: %s", name, error.c_str());
        return -1;
    }
    return 0;
}

}  // extern "C"
