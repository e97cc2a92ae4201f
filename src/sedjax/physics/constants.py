"""Physical constants and conventions shared by every kernel (cgs unless named)."""

C_KM_S = 299792.458  # speed of light, km/s (exact SI value)
C_AA_S = C_KM_S * 1e13  # speed of light, Angstrom/s (== 2.99792458e18 to the bit)
L_SUN_ERG_S = 3.828e33  # nominal solar luminosity (IAU 2015 B3), erg/s
MPC_CM = 3.0856775814913673e24  # 1 Mpc in cm
AB_ZEROPOINT_CGS = 3.631e-20  # 3631 Jy in erg/s/cm^2/Hz (1 maggie)
SEC_PER_GYR = 3.15576e16  # Julian Gyr in s
KM_PER_MPC = 3.0856775814913673e19
YR_PER_GYR = 1e9

# Planck 2018 (TT,TE,EE+lowE+lensing+BAO) flat LCDM, no radiation
H0_PLANCK18 = 67.66  # km/s/Mpc
OM0_PLANCK18 = 0.30966

T_BIRTH_CLOUD_GYR = 0.01  # stars younger than 10 Myr sit in birth clouds (Charlot & Fall 2000)
DUST_REF_WAVE_AA = 5500.0  # reference wavelength of the dust optical depths
CALZETTI_RV = 4.05
LYMAN_LIMIT_AA = 911.75
