namespace SubsetMulticast.Testing;

/// <summary>
/// Polls a condition every 20 ms until it holds, failing with what it waited for after <c>timeout</c>: for states
/// that raise no event (flows installed by another task, a learner's tables). A test helper, kept out of product code.
/// </summary>
public static class Eventually
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (int i = 0; i < 1_000_000; i++)
        {
            if (condition()) return;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
        throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
    }
}
