/*
 * Test shared object "nosym": exports no oprun_plugin_describe, only a
 * misspelled look-alike, so the host must refuse it as "not a plugin"
 * instead of calling whatever it finds.  Do not define the real entry
 * symbol here; plugin.h merely declaring it is harmless.
 */
#include <oprun/plugin.h>

OPRUN_EXPORT int oprun_plugin_describe_typo(void);

OPRUN_EXPORT int oprun_plugin_describe_typo(void)
{
	return 0;
}
