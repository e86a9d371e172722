/* l1_ptr: 60 words of 7 bits (sdsnn-hw, hardware contract 5).
 * Word a is l1_ptr[a]; limb i holds bits [64*i +: 64], least significant first. */
#ifndef SDSNN_L1_PTR_H
#define SDSNN_L1_PTR_H

#include <stdint.h>

#define L1_PTR_DEPTH 60u
#define L1_PTR_WIDTH 7u
#define L1_PTR_LIMBS 1u

static const uint64_t l1_ptr[L1_PTR_DEPTH][L1_PTR_LIMBS] = {
    {UINT64_C(0x00)},
    {UINT64_C(0x02)},
    {UINT64_C(0x04)},
    {UINT64_C(0x06)},
    {UINT64_C(0x08)},
    {UINT64_C(0x0a)},
    {UINT64_C(0x0c)},
    {UINT64_C(0x0e)},
    {UINT64_C(0x10)},
    {UINT64_C(0x12)},
    {UINT64_C(0x14)},
    {UINT64_C(0x16)},
    {UINT64_C(0x18)},
    {UINT64_C(0x1a)},
    {UINT64_C(0x1c)},
    {UINT64_C(0x1e)},
    {UINT64_C(0x20)},
    {UINT64_C(0x22)},
    {UINT64_C(0x24)},
    {UINT64_C(0x26)},
    {UINT64_C(0x28)},
    {UINT64_C(0x2a)},
    {UINT64_C(0x2c)},
    {UINT64_C(0x2e)},
    {UINT64_C(0x30)},
    {UINT64_C(0x32)},
    {UINT64_C(0x34)},
    {UINT64_C(0x36)},
    {UINT64_C(0x38)},
    {UINT64_C(0x3a)},
    {UINT64_C(0x3c)},
    {UINT64_C(0x3e)},
    {UINT64_C(0x40)},
    {UINT64_C(0x42)},
    {UINT64_C(0x44)},
    {UINT64_C(0x46)},
    {UINT64_C(0x48)},
    {UINT64_C(0x4a)},
    {UINT64_C(0x4c)},
    {UINT64_C(0x4e)},
    {UINT64_C(0x50)},
    {UINT64_C(0x52)},
    {UINT64_C(0x54)},
    {UINT64_C(0x56)},
    {UINT64_C(0x58)},
    {UINT64_C(0x5a)},
    {UINT64_C(0x5c)},
    {UINT64_C(0x5e)},
    {UINT64_C(0x60)},
    {UINT64_C(0x62)},
    {UINT64_C(0x64)},
    {UINT64_C(0x66)},
    {UINT64_C(0x68)},
    {UINT64_C(0x6a)},
    {UINT64_C(0x6c)},
    {UINT64_C(0x6e)},
    {UINT64_C(0x70)},
    {UINT64_C(0x72)},
    {UINT64_C(0x74)},
    {UINT64_C(0x76)},
};

#endif /* SDSNN_L1_PTR_H */
