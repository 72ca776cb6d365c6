/* A stand-in for Windows' bcryptprimitives.dll, for running the Windows build under wine 8
 * (Debian 12's), which lacks it: Rust's standard library takes its random bytes from
 * ProcessPrng there since Rust 1.78, and wine added the DLL in wine 9. make dist-check builds
 * it with mingw-w64 and puts it beside spira-pipe.exe in its scratch folder only; it is never
 * shipped. ProcessPrng is answered from RtlGenRandom (advapi32's SystemFunction036). */
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n)) {
            return FALSE;
        }
        data += n;
        len -= n;
    }
    return TRUE;
}
